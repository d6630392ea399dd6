"""The leaderboard: any policy on frozen scenario sets, replay-validated, with rliable's statistics.

``scenarios`` (the frozen sets), ``policies`` (``--policy`` specs), ``play`` (the episode loop),
``runner`` (the isolated worker), ``results`` (files and schema), ``validate`` (replay),
``stats`` (IQM, bootstrap intervals, probability of improvement), ``render`` (LEADERBOARD.md and
leaderboard.html), ``cli`` (the sub-commands) and ``populate`` (every baseline and agent's entry).
"""
