// A local S3-compatible server for exportd's S3 tests: @20minutes/s3rver 4.0.4 (verifies SigV4,
// multipart, Range), credentials S3RVER / S3RVER.
//   node --openssl-legacy-provider tests/s3/s3rver.mjs PORT DIRECTORY [BUCKET...]
// (the flag: s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in
// its legacy provider; without it a truncated listing answers 500)
// Listens on 127.0.0.1:PORT, stores objects under DIRECTORY, creates the buckets (default
// "test-bucket") and prints "ready" on stdout once it accepts requests. Stops on SIGTERM/SIGINT.
// POST /__faults injects transient errors (see below). With S3RVER_LOG_REQUESTS=1 it also prints "request METHOD URL STATUS" for every request, so
// tests can see which S3 calls a client made (e.g. that an upload was multipart).
//
// s3rver 4.0.4 has no AbortMultipartUpload (DELETE ?uploadId= answers 405 MethodNotAllowed).
// The patch below adds it to the existing DELETE route, after the router's signature check, with
// S3's semantics: 204 and the upload's parts removed; 404 NoSuchUpload for an unknown upload.
import { createRequire } from 'node:module';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';

const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver');
const router = require('@20minutes/s3rver/lib/routes.js');
const S3Error = require('@20minutes/s3rver/lib/models/error.js');

const [portText, directory, ...buckets] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port <= 0 || !directory) {
  console.error('usage: node s3rver.mjs PORT DIRECTORY [BUCKET...]');
  process.exit(2);
}

function patchAbortMultipartUpload() {
  const layer = router.stack.find(
    (l) => l.path === '/:bucket/:key+' && l.methods.includes('DELETE'),
  );
  if (!layer) throw new Error('s3rver.mjs: no DELETE object route to patch');
  const original = layer.stack[layer.stack.length - 1];
  layer.stack[layer.stack.length - 1] = async (ctx, next) => {
    if (ctx.params.queryMethod !== 'uploadId') return original(ctx, next);
    const uploads = ctx.store.getResourcePath(ctx.params.bucket, undefined, 'uploads');
    const dir = path.join(uploads, path.basename(String(ctx.query.uploadId)));
    try {
      await stat(dir);
    } catch {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', {
        UploadId: ctx.query.uploadId,
      });
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
  };
}

patchAbortMultipartUpload();
const server = new S3rver({
  port,
  address: '127.0.0.1',
  directory,
  silent: true,
  configureBuckets: (buckets.length ? buckets : ['test-bucket']).map((name) => ({ name })),
});
// Test-only fault injection, so clients' retries meet a real server: POST
// /__faults?method=PUT&count=2&status=503&code=SlowDown makes the next 2 PUT requests answer
// 503 with an S3 error document (after their body has been read), before any other processing.
const faults = [];
server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/__faults' && ctx.method === 'POST') {
    faults.push({
      method: String(ctx.query.method),
      remaining: Number(ctx.query.count),
      status: Number(ctx.query.status),
      code: String(ctx.query.code),
    });
    ctx.status = 204;
    return;
  }
  const fault = faults.find((f) => f.remaining > 0 && f.method === ctx.method);
  if (!fault) return next();
  fault.remaining -= 1;
  await new Promise((resolve) => {
    ctx.req.on('end', resolve);
    ctx.req.on('error', resolve);
    ctx.req.resume();
  });
  ctx.status = fault.status;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${fault.code}</Code><Message>injected by s3rver.mjs</Message></Error>`;
});

if (process.env.S3RVER_LOG_REQUESTS === '1') {
  // Koa composes its middleware when the server starts: put the logger first.
  server.middleware.unshift(async (ctx, next) => {
    try {
      await next();
    } finally {
      console.log(`request ${ctx.method} ${ctx.url} ${ctx.status}`);
    }
  });
}
await server.run();
console.log('ready');

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
