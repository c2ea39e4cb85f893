#!/bin/sh
# Run once by the postgres image on an empty data folder (docker-entrypoint-initdb.d): the two roles of a
# least-privilege deployment. The owner role owns the database and applies migrations; the service logs in as
# credentials_service, a member of credentials_app, which the migrations grant only what the service needs.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$OWNER_DB_PASSWORD" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE credentials_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE credentials_app NOLOGIN;
CREATE ROLE credentials_service LOGIN PASSWORD :'app_password' IN ROLE credentials_app;
CREATE DATABASE credentials OWNER credentials_owner;
REVOKE ALL ON DATABASE credentials FROM PUBLIC;
GRANT CONNECT ON DATABASE credentials TO credentials_app;
SQL
