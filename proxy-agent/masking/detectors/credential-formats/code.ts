// Developer platforms: code hosting, package registries, CI, observability and the SaaS tools
// engineers script against.
import type { CredentialFormat } from '../credential-format.ts';
import { labelled } from './labelled.ts';

/** `"auth": "<base64 of user:password>"` in a Docker or Podman config file holds a login. */
function decodesToLogin(value: string): boolean {
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 && !/[\x00-\x1f\x7f]/.test(decoded);
}

export const CODE_FORMATS: readonly CredentialFormat[] = [
  { name: 'GITHUB_TOKEN', prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], pattern: /gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])/y },
  { name: 'GITHUB_TOKEN', prefixes: ['github_pat_'], pattern: /github_pat_\w{22,255}(?!\w)/y },
  // Every GitLab token kind has its own prefix (personal/project/group, OAuth app secret, deploy,
  // runner, CI job, trigger, feed, incoming mail, agent, SCIM, feature flags); routable tokens
  // end in ".<version>.<routing part>".
  {
    name: 'GITLAB_TOKEN',
    prefixes: ['glpat-', 'gloas-', 'gldt-', 'glrt-', 'glcbt-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'glsoat-', 'glffct-'],
    pattern: /gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct)-[\w-]{20,128}(?:\.\d{1,4}\.[A-Za-z0-9]{1,32})?(?![\w-])/y,
  },
  // Runner registration tokens of GitLab.com before glrt-.
  { name: 'GITLAB_TOKEN', prefixes: ['GR1348941'], pattern: /GR1348941[\w-]{20,64}(?![\w-])/y },
  { name: 'BITBUCKET_APP_PASSWORD', prefixes: ['ATBB'], pattern: /ATBB[A-Za-z0-9]{28,64}(?![A-Za-z0-9])/y },
  // Atlassian (Jira, Confluence) API tokens end in "=" and a checksum.
  { name: 'ATLASSIAN_API_TOKEN', prefixes: ['ATATT3'], pattern: /ATATT3[\w=-]{150,250}(?![\w=-])/y },

  { name: 'NPM_TOKEN', prefixes: ['npm_'], pattern: /npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/y },
  // PyPI tokens are macaroons whose base64 starts with the index's name (pypi.org, test.pypi.org).
  {
    name: 'PYPI_TOKEN',
    prefixes: ['pypi-AgEIcHlwaS5vcmc', 'pypi-AgENdGVzdC5weXBpLm9yZw'],
    pattern: /pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[\w-]{50,1000}(?![\w-])/y,
  },
  { name: 'RUBYGEMS_API_KEY', prefixes: ['rubygems_'], pattern: /rubygems_[a-f0-9]{48}(?![A-Za-z0-9])/y },
  { name: 'NUGET_API_KEY', prefixes: ['oy2'], pattern: /oy2[a-z0-9]{43}(?![A-Za-z0-9])/y },
  { name: 'CLOJARS_TOKEN', prefixes: ['CLOJARS_'], pattern: /CLOJARS_[a-z0-9]{60}(?![A-Za-z0-9])/y },
  { name: 'DOCKER_HUB_TOKEN', prefixes: ['dckr_pat_', 'dckr_oat_'], pattern: /dckr_(?:pat|oat)_[\w-]{24,64}(?![\w-])/y },
  { name: 'DOCKER_AUTH', prefixes: ['"auth"'], pattern: /"auth"[ \t]{0,8}:[ \t]{0,8}"(?<secret>[A-Za-z0-9+/]{4,1024}={0,2})(?=")/y, valid: decodesToLogin },
  // JFrog Artifactory API keys, and reference tokens (base64 of "reftkn:01:...").
  { name: 'ARTIFACTORY_TOKEN', prefixes: ['AKCp'], pattern: /AKCp[A-Za-z0-9]{69}(?![A-Za-z0-9])/y },
  { name: 'ARTIFACTORY_TOKEN', prefixes: ['cmVmdGtuOjAxOjE'], pattern: /cmVmdGtuOjAxOjE[A-Za-z0-9]{40,80}(?![A-Za-z0-9])/y },
  { name: 'CIRCLECI_TOKEN', prefixes: ['CCIPAT_', 'CCIPRJ_'], pattern: /CCI(?:PAT|PRJ)_[A-Za-z0-9]{20,32}_[a-f0-9]{40}(?![A-Za-z0-9])/y },
  { name: 'BUILDKITE_TOKEN', prefixes: ['bkua_'], pattern: /bkua_[a-f0-9]{40}(?![A-Za-z0-9])/y },

  // Sentry organization tokens carry base64 JSON; user tokens are hex.
  { name: 'SENTRY_TOKEN', prefixes: ['sntrys_eyJ'], pattern: /sntrys_eyJ[\w+/=]{60,600}(?![\w+/=])/y },
  { name: 'SENTRY_TOKEN', prefixes: ['sntryu_'], pattern: /sntryu_[a-f0-9]{64}(?![A-Za-z0-9])/y },
  // Grafana Cloud access policy tokens (base64 JSON) and service account tokens (with a checksum).
  { name: 'GRAFANA_TOKEN', prefixes: ['glc_'], pattern: /glc_[A-Za-z0-9+/]{32,400}={0,2}(?![\w+/=])/y },
  { name: 'GRAFANA_TOKEN', prefixes: ['glsa_'], pattern: /glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Za-z0-9])/y },
  // New Relic user keys, and insights insert / query keys.
  { name: 'NEW_RELIC_KEY', prefixes: ['NRAK-', 'NRII-', 'NRIQ-'], pattern: /NR(?:AK|II|IQ)-[\w-]{27,32}(?![\w-])/y },
  // Datadog API (32 hex) and application (40 hex) keys have no prefix: only their label names them.
  {
    name: 'DATADOG_API_KEY',
    prefixes: ['dd_api', 'dd_app', 'dd-api', 'dd-app', 'ddapi', 'ddapp', 'datadog'],
    ignoreCase: true,
    pattern: labelled('(?:dd|datadog)[_-]?(?:api|app(?:lication)?)[_-]?key', '[a-f0-9]{40}|[a-f0-9]{32}', '(?![A-Za-z0-9])'),
  },
  { name: 'DYNATRACE_TOKEN', prefixes: ['dt0c01.'], pattern: /dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}(?![A-Za-z0-9])/y },

  { name: 'POSTMAN_API_KEY', prefixes: ['PMAK-'], pattern: /PMAK-[a-f0-9]{24}-[a-f0-9]{34}(?![A-Za-z0-9])/y },
  { name: 'LINEAR_API_KEY', prefixes: ['lin_api_'], pattern: /lin_api_[A-Za-z0-9]{40}(?![A-Za-z0-9])/y },
  { name: 'LINEAR_API_KEY', prefixes: ['lin_oauth_'], pattern: /lin_oauth_[a-f0-9]{64}(?![A-Za-z0-9])/y },
  { name: 'SOURCEGRAPH_TOKEN', prefixes: ['sgp_'], pattern: /sgp_(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40}(?![A-Za-z0-9])/y },
  { name: 'FIGMA_TOKEN', prefixes: ['figd_'], pattern: /figd_[\w-]{40}(?![\w-])/y },
  { name: 'README_API_KEY', prefixes: ['rdme_'], pattern: /rdme_[a-z0-9]{70}(?![A-Za-z0-9])/y },
  { name: 'PREFECT_API_KEY', prefixes: ['pnu_'], pattern: /pnu_[A-Za-z0-9]{36}(?![A-Za-z0-9])/y },
  { name: 'SCALINGO_TOKEN', prefixes: ['tk-us-'], pattern: /tk-us-[\w-]{48}(?![\w-])/y },
  { name: 'FRAMEIO_TOKEN', prefixes: ['fio-u-'], pattern: /fio-u-[\w=-]{64}(?![\w=-])/y },
  { name: 'CONTENTFUL_TOKEN', prefixes: ['CFPAT-'], pattern: /CFPAT-[\w-]{43}(?![\w-])/y },
  { name: 'TYPEFORM_TOKEN', prefixes: ['tfp_'], pattern: /tfp_[\w-]{40,80}(?![\w-])/y },
  // Notion integration secrets, old ("secret_") and new ("ntn_").
  { name: 'NOTION_TOKEN', prefixes: ['secret_'], pattern: /secret_[A-Za-z0-9]{43}(?![A-Za-z0-9])/y },
  { name: 'NOTION_TOKEN', prefixes: ['ntn_'], pattern: /ntn_[A-Za-z0-9]{46}(?![A-Za-z0-9])/y },
];
