"""Fault injection with real processes: hearth killed with SIGKILL, and its database going away.

The in-process fault tests (Slack answering 429, 5xx, 504 after posting, timing out; hearth
restarting) are `tests/e2e/test_*_faults.py`. These start hearth as separate OS processes
(`python -m tests.faults.process`, HTTP mode, its real scheduler), behind a switch the
emulator's Request URL points at (`harness.Router`), on a clock the test moves for Slack and
every process together (`Cluster.advance`), and kill them with SIGKILL mid-step:

- `test_lean_coffee_kill.py`: a Lean Coffee, killed at each step;
- `test_scheduled_kill.py`: a rota reminder, a health check's poll and answers, a meetup prompt;
- `test_two_processes.py`: the process that planned a timer dies; the other fires it;
- `test_database_outage.py`: PostgreSQL cut off (a TCP proxy) or SQLite locked, for 20 s;
- known gaps, kept visible as strict xfails: `test_lean_coffee_redraws.py` (a board redraw
  dies with its process) and `test_acknowledged_then_lost.py` (a topic proposed by command is
  acknowledged before it is stored).

Every test runs on SQLite (one process at a time, a new one after each kill) and PostgreSQL
(two at once; the survivor carries on without a restart). A failing test's report carries
each process's stderr. The folder takes about four minutes on two cores.
"""
