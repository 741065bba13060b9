import { describe, expect, it } from 'vitest';
import { pageTitle, site } from './site';

describe('pageTitle', () => {
  it('is the site name on the home page', () => {
    expect(pageTitle()).toBe(site.name);
  });

  it('puts the page first', () => {
    expect(pageTitle('About')).toBe(`About · ${site.name}`);
  });
});

describe('nav', () => {
  it('links to directories, as the static build writes them', () => {
    for (const { href } of site.nav) expect(href).toMatch(/^\/([a-z0-9-]+\/)*$/);
  });
});
