"""TokenSPICE and DARC-SPICE netlists, one module per netlist (``../shared/specs/token-netlists.md``)."""
