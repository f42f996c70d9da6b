#!/bin/bash
# Docker HEALTHCHECK of the mlwatch image: GET /-/healthy and succeed on a 200.
#
# debian:bookworm-slim has neither curl nor wget, and mlwatch has no HTTP
# client subcommand, so this speaks HTTP/1.0 over bash's /dev/tcp instead of
# adding a package (and its libraries) to the image for one request. Bash is
# an essential package of Debian, so it is in every Debian-based image.
#
# MLWATCH_HEALTHCHECK_ADDR (host:port, default 127.0.0.1:9464) follows a
# `--listen` on another port. Docker's --timeout bounds the whole check; the
# read also gives up after 5 seconds.
set -u
addr="${MLWATCH_HEALTHCHECK_ADDR:-127.0.0.1:9464}"
host="${addr%:*}"
port="${addr##*:}"
exec 3<>"/dev/tcp/${host}/${port}" || exit 1
printf 'GET /-/healthy HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3 || exit 1
IFS=' ' read -r -t 5 _version status _reason <&3 || exit 1
exec 3>&-
[ "$status" = 200 ]
