"""TokenSPICE and DARC-SPICE netlists (one module per netlist)."""
