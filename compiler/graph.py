"""The graph of sources, pipelines, tables and sinks, as Mermaid or Graphviz DOT text.

Mermaid renders in GitHub and GitLab Markdown, so `flowc graph` output can be pasted
into a project's README as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flowc.compiler import ir
from flowc.compiler.checker import CheckResult


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str  # source, pipeline, table, sink


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]


def build_graph(result: CheckResult, pipelines: dict[str, ir.PipelineIR]) -> Graph:
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []
    for name, source in sorted(result.sources.items()):
        nodes[f"source_{name}"] = Node(f"source_{name}", f"{name} ({source.kind})", "source")
    for name, sink in sorted(result.sinks.items()):
        nodes[f"sink_{name}"] = Node(f"sink_{name}", f"{name} ({sink.kind})", "sink")
    for name, p in pipelines.items():
        nodes[f"pipeline_{name}"] = Node(f"pipeline_{name}", name, "pipeline")
        upstream = f"{p.upstream_kind}_{p.upstream}"
        edges.append((upstream, f"pipeline_{name}"))
        if p.persist is not None:
            table = f"table_{p.persist.table}"
            nodes[table] = Node(table, p.persist.table, "table")
            edges.append((f"pipeline_{name}", table))
        edges += [(f"pipeline_{name}", f"sink_{sink}") for sink in p.sinks]
    return Graph(tuple(nodes.values()), tuple(dict.fromkeys(edges)))


def _safe(node_id: str) -> str:
    return re.sub(r"\W", "_", node_id)


_MERMAID_SHAPES = {
    "source": ('(["', '"])'),
    "pipeline": ('["', '"]'),
    "table": ('[("', '")]'),
    "sink": ('>"', '"]'),
}
_DOT_SHAPES = {"source": "invhouse", "pipeline": "box", "table": "cylinder", "sink": "house"}


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for node in graph.nodes:
        left, right = _MERMAID_SHAPES[node.kind]
        label = node.label.replace('"', "'")
        lines.append(f"  {_safe(node.id)}{left}{label}{right}")
    lines += [f"  {_safe(a)} --> {_safe(b)}" for a, b in graph.edges]
    return "\n".join(lines) + "\n"


def to_dot(graph: Graph) -> str:
    lines = ["digraph flowc {", "  rankdir=LR;"]
    for node in graph.nodes:
        label = node.label.replace('"', '\\"')
        lines.append(f'  {_safe(node.id)} [label="{label}", shape={_DOT_SHAPES[node.kind]}];')
    lines += [f"  {_safe(a)} -> {_safe(b)};" for a, b in graph.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
