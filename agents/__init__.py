"""Agents and the queues (topics) they serve: registry, availability state machine, admin API."""
