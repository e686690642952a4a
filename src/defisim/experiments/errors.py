"""The error of bad experiment input."""


class ExperimentError(ValueError):
    """Bad input to an experiment (unknown parameter, wrong type, empty grid,
    unreachable Ray cluster, ...): the message is one line for ``error:``."""
