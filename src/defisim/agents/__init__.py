"""Agents and the agent zoo."""

from .base import Agent

__all__ = ["Agent"]
