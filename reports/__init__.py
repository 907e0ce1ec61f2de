"""What supervisors and operators read: the line now (live), the figures of a period, /metrics."""
