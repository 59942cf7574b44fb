import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** The JSON Schema of `servers.json` for editors (`"$schema": "./node_modules/switchboard/schema/servers.schema.json"`). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return { ...schema, title: 'Switchboard servers.json' };
}
