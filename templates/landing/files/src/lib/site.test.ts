import { describe, expect, it } from 'vitest';
import { pageTitle, site } from './site';

describe('pageTitle', () => {
  it('is the site name on the home page', () => {
    expect(pageTitle()).toBe(site.name);
  });

  it('puts the page first', () => {
    expect(pageTitle('Not found')).toBe(`Not found · ${site.name}`);
  });
});

describe('content', () => {
  it('has a call to action and distinct features', () => {
    expect(site.cta.href).toMatch(/^(https?:|mailto:|\/|#)/);
    const titles = site.features.map((f) => f.title);
    expect(new Set(titles).size).toBe(titles.length);
  });
});
