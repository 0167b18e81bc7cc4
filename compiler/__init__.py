"""From a parsed program to checked IR and artifacts: names, types, code generation."""
