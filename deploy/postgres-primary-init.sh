#!/bin/bash
# The primary's first start (deploy/compose.yaml; the official image runs this once, on an empty
# data directory): the two roles of docs/operations.md, the database, and a replication role the
# standby copies the primary with.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_pw="$LIMS_OWNER_PASSWORD" -v app_pw="$LIMS_APP_PASSWORD" \
    -v repl_pw="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE lims_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE lims_app LOGIN PASSWORD :'app_pw';
CREATE ROLE replicator REPLICATION LOGIN PASSWORD :'repl_pw';
CREATE DATABASE lims OWNER lims_owner;
SQL

echo "host replication replicator 127.0.0.1/32 scram-sha-256" >> "$PGDATA/pg_hba.conf"
