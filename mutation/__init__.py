"""cuprum's mutation-testing kit: mutmut plus a catalogue of must-kill mutants.

Run it with ``make mutate`` (``python -m mutation run``); see the "Mutation
testing" chapter of ``docs/users-guide.md``.
"""
