/**
 * Reads Netra's price catalog (data/price-catalog.json) from disk and validates it with parseCatalog().
 * The only I/O of the pricing code; everything else is in workload/price-catalog.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetraError } from '../errors.js';
import { parseCatalog, type PriceCatalog } from './price-catalog.js';

/** <repo>/data/price-catalog.json, resolved relative to this module. */
export const DEFAULT_PRICE_CATALOG_PATH = fileURLToPath(new URL('../../data/price-catalog.json', import.meta.url));

/** Loads and validates a catalog file. Throws NETRA_E_CONFIG naming the file (and the model and field when invalid). */
export function loadPriceCatalog(path: string = DEFAULT_PRICE_CATALOG_PATH): PriceCatalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NetraError('CONFIG', `cannot read price catalog ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NetraError('CONFIG', `price catalog ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseCatalog(json);
  } catch (err) {
    if (err instanceof NetraError) {
      throw new NetraError('CONFIG', `${path}: ${err.message}`, { field: err.field, details: err.details, cause: err });
    }
    throw err;
  }
}
