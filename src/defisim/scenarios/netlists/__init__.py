"""The TokenSPICE and DARC-SPICE netlists (``../shared/specs/token-netlists.md`` 4, 5),
each a :class:`~defisim.scenarios.netlist.Netlist` scenario."""
