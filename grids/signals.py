"""Signals other apps listen to, so the grids app never imports them."""

from django.dispatch import Signal

# Sent by ``grids_compute`` (so by every path that computes: task, command,
# admin) once per target whose grids are current after it ran, once the
# transaction has committed. Arguments: ``target`` (grids.targets.Target) and
# ``stored``, how many snapshots were written (0 when the inputs had not
# changed: the grids are current all the same, and rules made since the last
# computation must still be checked). Alert evaluation listens to it.
grids_stored = Signal()
