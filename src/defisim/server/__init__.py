"""The server layer: live runs served to other processes (the remote Simulation API,
:mod:`defisim.server.remote`; live run hosts, :mod:`defisim.server.live`)."""
