#!/bin/bash
# session 13, one device call: run31.sh (exp13: trace of the host's time
# per command buffer, rows default / again / skip) then run32.sh
# (exp13-inline: the driver's calls batched on the decoding thread).
d=$(dirname "$0")
bash $d/run31.sh
bash $d/run32.sh
