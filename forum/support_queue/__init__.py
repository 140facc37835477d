"""The support queue: tickets (topics of kind "ticket" with a ticket record), their states,
the team's internal notes, and the fair paid-priority queue the other modules build on."""
