"""The compute marketplace (``../shared/specs/compute-marketplace.md``): clients and
resource providers negotiate jobs through schemes and settle them on the chain with
escrow, collateral and attestations.

Shared vocabulary: :mod:`.types`. On-chain side (spec 4): the attestation registry
(:mod:`.attestations`) and the statement schemas (:mod:`.schemas`); the ``compute``
chain protocol (:mod:`.protocol`) with deals (:mod:`.deals`), money flows
(:mod:`.settlement`), checks and mediator panels (:mod:`.mediation`), gas per action
(:mod:`.gas`), parameters (:mod:`.params`) and events (:mod:`.events`)."""
