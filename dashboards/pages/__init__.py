"""One module per page: `layout(state)` builds it, `register(app)` wires its callbacks."""
