#!/usr/bin/env bash
# Offline validation of deploy/kubernetes, as CI runs it. Contacts no cluster.
#   1. yamllint -s over deploy/kubernetes (.yamllint.yaml at the repo root);
#   2. kubectl kustomize renders the core manifests; kubernetes-validate
#      --strict checks them against the Kubernetes $K8S_VERSION schemas;
#   3. the same with the opt-in component components/webhook-egress;
#   4. the postgres/ kustomization renders; its core objects (the Secret, the
#      database pods' NetworkPolicy) are validated
#      strictly too, and the CloudNativePG Cluster (a CRD the schemas do not
#      know) gets a field check in Python.
# Tools go into a venv at $VENV (created on the first run; later runs reuse it).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/venv-k8s}
K8S_VERSION=${K8S_VERSION:-1.32.0}
KUBERNETES_VALIDATE_VERSION=1.37.0
YAMLLINT_VERSION=1.38.0
KUBECTL=${KUBECTL:-kubectl}

if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE_VERSION" \
    || ! "$VENV/bin/yamllint" --version 2>/dev/null | grep -q "$YAMLLINT_VERSION"; then
    echo "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION, yamllint $YAMLLINT_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "yamllint==$YAMLLINT_VERSION"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "yamllint: deploy/kubernetes"
"$VENV/bin/yamllint" -s -c .yamllint.yaml deploy/kubernetes

# No kubeconfig: nothing here can reach a cluster.
export KUBECONFIG=/dev/null

echo "kustomize + kubernetes-validate --strict ($K8S_VERSION): deploy/kubernetes"
"$KUBECTL" kustomize deploy/kubernetes > "$work/core.yaml"
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$work/core.yaml"

echo "kustomize + kubernetes-validate --strict: deploy/kubernetes with components/webhook-egress"
mkdir -p "$work/overlay"
base=$(realpath --relative-to="$work/overlay" deploy/kubernetes)
cat > "$work/overlay/kustomization.yaml" <<YAML
resources:
  - $base
components:
  - $base/components/webhook-egress
YAML
"$KUBECTL" kustomize --load-restrictor LoadRestrictionsNone "$work/overlay" > "$work/webhook-egress.yaml"
grep -q "name: skygate-gateway-webhook-egress" "$work/webhook-egress.yaml"
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$work/webhook-egress.yaml"

echo "kustomize + checks: deploy/kubernetes/postgres"
"$KUBECTL" kustomize deploy/kubernetes/postgres > "$work/postgres.yaml"
"$VENV/bin/python" - "$work/postgres.yaml" "$work/postgres-core.yaml" <<'PY'
import sys
import yaml

rendered, core_out = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
errors, core, clusters = [], [], []

def get(doc, path):
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc

for doc in docs:
    if doc.get("apiVersion") == "postgresql.cnpg.io/v1":
        if doc.get("kind") != "Cluster":
            errors.append(f"unexpected CloudNativePG kind {doc.get('kind')}")
        clusters.append(doc)
    else:
        core.append(doc)

if len(clusters) != 1:
    errors.append(f"expected one CloudNativePG Cluster, found {len(clusters)}")
for c in clusters:
    expect = {
        "metadata.name": "skygate-db",  # so the primary's Service is skygate-db-rw
        "metadata.namespace": "skygate",
        "spec.instances": 3,
        "spec.bootstrap.initdb.database": "skygate",
        "spec.bootstrap.initdb.owner": "skygate",
    }
    for path, want in expect.items():
        if get(c, path) != want:
            errors.append(f"Cluster {path} = {get(c, path)!r}, want {want!r}")
    image = get(c, "spec.imageName") or ""
    if ":15" not in image:
        errors.append(f"Cluster spec.imageName {image!r} is not PostgreSQL 15")
    if not get(c, "spec.storage.size"):
        errors.append("Cluster spec.storage.size is required")
    secret = get(c, "spec.bootstrap.initdb.secret.name")
    secrets = {get(d, "metadata.name"): d for d in core if d.get("kind") == "Secret"}
    if secret not in secrets:
        errors.append(f"Cluster initdb secret {secret!r} is not in the kustomization")
    elif get(secrets[secret], "stringData.username") != "skygate":
        errors.append(f"Secret {secret} username is not the owner skygate")

yaml.safe_dump_all(core, open(core_out, "w"))
for e in errors:
    print("error:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$work/postgres-core.yaml"

echo "kubernetes manifests: ok"
