"""Example protocols that live outside ``src/``: they show that a protocol plugs into
the chain and the service without a line of the chain, the service or another
protocol changing (``docs/protocols.md`` walks through :mod:`.constant_sum`)."""
