#!/usr/bin/python3
"""garbage_child.py - a helper that misbehaves once, then becomes the real one.

Started by arvados-dispatch-cloud in place of cloudd (-cloudd-path). The first time (no
marker file yet) it writes a message with a nonsense header to its parent channel (fd 3)
and waits to be killed. Every later start execs the real cloudd with the same arguments.
"""
import os
import sys
import time

marker = os.environ["ADC_GARBAGE_MARKER"]
if os.path.exists(marker):
    os.execv(os.environ["ADC_REAL_CLOUDD"], [os.environ["ADC_REAL_CLOUDD"]] + sys.argv[1:])
with open(marker, "w") as f:
    f.write(str(os.getpid()))
os.write(3, b"\xff\xfe this is not a message header \x00\x01\x02")
time.sleep(60)
