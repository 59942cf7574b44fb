export { Catalog } from './catalog.js';
export type { CatalogEntry, CatalogSource, NameReport, ToolEntry } from './catalog.js';
export { exposedName, NAME_PATTERN, shortHash, splitExposed } from './names.js';
export { fromGatewayUri, toGatewayUri } from './uris.js';
export { rewritePromptResult, rewriteReadResult, rewriteToolResult } from './rewrite.js';
export { decodeCursor, paginate } from './paginate.js';
export { PinStore, pinnedDefinition } from './pins.js';
export type { PinChange } from './pins.js';
