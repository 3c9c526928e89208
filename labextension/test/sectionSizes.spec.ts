import { withShare } from '../src/sectionSizes';

describe('withShare', () => {
  it('gives a hidden (zero) section its share and keeps the others in proportion', () => {
    const out = withShare([0.4, 0.3, 0.2, 0.1, 0], 4, 0.2);
    expect(out[4]).toBeCloseTo(0.2);
    expect(out[0] / out[1]).toBeCloseTo(0.4 / 0.3);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
  });
  it('keeps a collapsed section at zero', () => {
    expect(withShare([0.5, 0, 0.5, 0], 3, 0.2)[1]).toBe(0);
  });
  it('leaves bad input alone', () => {
    expect(withShare([0.5, 0.5], 5, 0.2)).toEqual([0.5, 0.5]);
    expect(withShare([0.5, 0.5], 1, 1.5)).toEqual([0.5, 0.5]);
  });
  it('gives everything to the one section when the others have nothing', () => {
    expect(withShare([0, 0, 0], 1, 0.2)).toEqual([0, 1, 0]);
  });
});
