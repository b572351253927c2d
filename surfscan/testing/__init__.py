"""Test and benchmark support: independent oracles and synthetic truths.

Nothing here is imported by the library itself.
"""
