#!/usr/bin/env bash
# Validate docker-compose.yml with Debian's docker-compose (1.29) when it is installed.
# Exits non-zero only when the file is invalid; a missing tool just skips the check.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v docker-compose >/dev/null 2>&1; then
  docker-compose -f docker-compose.yml config -q
  echo "docker-compose.yml is valid"
else
  echo "docker-compose not installed: validation of docker-compose.yml skipped"
fi
