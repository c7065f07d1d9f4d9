"""Training the published LipNet weights on GRID speaker 1. Imports :mod:`lipnet_core`; never imported by it."""
