#!/bin/sh
# check-seam.sh - the service sees the machine only through its back-end
# seam (service/backend.h): nothing in service/ or hotswapctl includes a
# simulator header or calls a sim_* function, except the sim back-end
# itself (service/backend_sim.c).  Fails naming each offending line.
set -eu
src="${1:-$(dirname "$0")/..}"
bad=$(cd "$src" && grep -nE '#include +"(sim|sim_internal|topology|simcard)\.h"|\bsim_[a-z_]+ *\(' \
	service/*.c service/*.h cli/hotswapctl.c 2>/dev/null |
	grep -v '^service/backend_sim\.c:' || true)
if [ -n "$bad" ]; then
	echo "check-seam: the service reaches past its back-end seam:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "check-seam: service/ and hotswapctl use only the back-end seam"
