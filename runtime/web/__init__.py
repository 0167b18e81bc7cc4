"""The web side of `flowc run`: dashboards in the browser."""
