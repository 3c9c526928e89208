/**
 * Relative sizes of the sidebar's accordion sections (Lumino's
 * `AccordionPanel.relativeSizes()`: fractions that sum to 1). Pure, so the
 * arithmetic is unit-tested apart from the layout.
 */

/**
 * `sizes` with section `index` given `share` of the whole and the others
 * scaled to the rest, keeping their proportions (a collapsed section, at 0,
 * stays 0). Out-of-range input is returned unchanged.
 */
export function withShare(
  sizes: readonly number[],
  index: number,
  share: number
): number[] {
  if (index < 0 || index >= sizes.length || !(share > 0 && share < 1)) {
    return [...sizes];
  }
  const others = sizes.reduce((sum, s, i) => (i === index ? sum : sum + s), 0);
  if (others <= 0) {
    return sizes.map((_, i) => (i === index ? 1 : 0));
  }
  return sizes.map((s, i) =>
    i === index ? share : (s / others) * (1 - share)
  );
}
