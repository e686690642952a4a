"""The compute marketplace (``../shared/specs/compute-marketplace.md``): clients and
resource providers negotiate jobs through schemes and settle them on the chain with
escrow, collateral and attestations. Shared vocabulary: :mod:`.types`."""
