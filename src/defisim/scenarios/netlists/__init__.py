"""TokenSPICE and DARC-SPICE netlists as defisim scenarios (``../shared/specs/token-netlists.md``)."""
