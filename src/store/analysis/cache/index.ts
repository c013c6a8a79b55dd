/**
 * The cache area of the analysis port (src/optimize/ports/cache.ts): exact repeats, the prompt-text stream for the
 * semantic-cache pass, provider prefix reuse and the block-chain stream for the prompt-cache simulation; one file per query.
 */
import type { CacheQueries } from '../../../optimize/ports/cache.js';
import type { RunAnalysis } from '../engine.js';
import { countEvents } from './event-counts.js';
import { exactCacheGroups } from './exact-cache.js';
import { scanPrefixBlocks } from './prefix-blocks.js';
import { prefixCacheGroups } from './prefix-cache.js';
import { scanPromptTexts } from './prompt-texts.js';

export function cacheQueries(run: RunAnalysis): CacheQueries {
  return {
    exactCacheGroups: (scope, opts) => run('exact_cache', (e) => exactCacheGroups(e, scope, opts)),
    scanPromptTexts: (scope, onRows, opts) => run('semantic_cache_scan', (e) => scanPromptTexts(e, scope, onRows, opts)),
    countEvents: (scope, ranges) => run('semantic_cache_counts', (e) => countEvents(e, scope, ranges)),
    prefixCacheGroups: (scope, opts) => run('prompt_caching', (e) => prefixCacheGroups(e, scope, opts)),
    scanPrefixBlocks: (scope, onRows, opts) => run('prompt_caching_blocks', (e) => scanPrefixBlocks(e, scope, onRows, opts)),
  };
}
