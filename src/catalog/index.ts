/** The catalog of well-known MCP servers, and adding a connection from one of its entries (see docs/catalog.md). */
export {
  type AddedFromCatalog,
  type AddFromCatalog,
  addFromCatalog,
  type SuggestedGrant,
  suggestFrom,
} from './add.ts';
export { type CatalogCard, type CatalogStatus, catalog, catalogEntry, catalogFor } from './catalog.ts';
export { type Catalog, type CatalogEntry, CatalogFile, parseCatalog } from './schema.ts';
