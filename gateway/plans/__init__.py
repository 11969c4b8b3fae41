"""Compiled execution plans for cached query documents (see README.md in this folder)."""

from gateway.plans.executor import PlanCache, PlannedExecutor, planned_executor

__all__ = ["PlanCache", "PlannedExecutor", "planned_executor"]
