/** `text` as a literal inside a RegExp: names (apps, models, datasets) found in a question's words. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
