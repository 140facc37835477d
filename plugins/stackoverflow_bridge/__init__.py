"""Stack Overflow bridge: mirror a project's tagged Stack Overflow questions as topics,
with an excerpt and the attribution Stack Overflow's licence asks for."""
