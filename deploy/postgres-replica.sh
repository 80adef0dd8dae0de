#!/bin/bash
# The hot standby (deploy/compose.yaml): on first start copy the primary with pg_basebackup -R
# (which writes primary_conninfo and standby.signal), then follow it as a hot standby on 5433.
set -euo pipefail

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h 127.0.0.1 -p 5432; do sleep 1; done
    pg_basebackup -h 127.0.0.1 -p 5432 -U replicator -D "$PGDATA" -R -X stream -c fast
    chmod 0700 "$PGDATA"
fi
exec postgres -D "$PGDATA" -c listen_addresses=127.0.0.1 -c port=5433 -c hot_standby=on
