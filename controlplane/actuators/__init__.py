"""Actuators: they change things (Route 53 weights, consumer replicas) and never decide.

Ports are in ``controlplane.actuators.base``; consumer scaling backends are registered in one place,
``controlplane.actuators.registry``.
"""
