import { openApiDocument } from './packages/server/src/http/restSchemas.ts';
const d = openApiDocument() as { components: { schemas: Record<string, unknown> }, paths: Record<string, { post: unknown }> };
console.log(Object.keys(d.components.schemas));
console.log(JSON.stringify(d.components.schemas.GetRecordByFilterRequest));
console.log(JSON.stringify(d.components.schemas.EndCallResponse));
console.log(JSON.stringify(d.paths['/v4/call_engine_http_srv/end_call']!.post).slice(0, 600));
