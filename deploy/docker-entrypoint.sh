#!/bin/sh
# deploy/Dockerfile's entry point: `migrate` once per release, before any `serve`.
set -eu

case "${1:-serve}" in
    migrate)
        flask --app lims db upgrade
        flask --app lims db grant-runtime-role "${LIMS_RUNTIME_ROLE:-lims_app}"
        ;;
    serve)
        exec gunicorn -c deploy/gunicorn.conf.py 'lims:create_app()'
        ;;
    *)
        exec "$@"
        ;;
esac
