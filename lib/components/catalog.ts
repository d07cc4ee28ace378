import { ComponentDeclaration, ComponentKind } from '../template/component';
import { amazonEbsBuilder } from './builders/amazon-ebs/declaration';
import { dockerBuilder } from './builders/docker/declaration';
import { fileBuilder } from './builders/file/declaration';
import { nullBuilder } from './builders/null/declaration';
import { artificePostProcessor } from './post-processors/artifice/declaration';
import { checksumPostProcessor } from './post-processors/checksum/declaration';
import { compressPostProcessor } from './post-processors/compress/declaration';
import { dockerImportPostProcessor } from './post-processors/docker-import/declaration';
import { dockerPushPostProcessor } from './post-processors/docker-push/declaration';
import { dockerSavePostProcessor } from './post-processors/docker-save/declaration';
import { dockerTagPostProcessor } from './post-processors/docker-tag/declaration';
import { manifestPostProcessor } from './post-processors/manifest/declaration';
import { shellLocalPostProcessor } from './post-processors/shell-local/declaration';
import { ansibleProvisioner } from './provisioners/ansible/declaration';
import { ansibleLocalProvisioner } from './provisioners/ansible-local/declaration';
import { breakpointProvisioner } from './provisioners/breakpoint/declaration';
import { fileProvisioner } from './provisioners/file/declaration';
import { puppetMasterlessProvisioner } from './provisioners/puppet-masterless/declaration';
import { shellProvisioner } from './provisioners/shell/declaration';
import { shellLocalProvisioner } from './provisioners/shell-local/declaration';

/**
 * Every component type Kiln supports, by kind and type. Declarations only:
 * importing this module loads no Docker or SSH code.
 */
export const CATALOG: Readonly<Record<ComponentKind, Readonly<Record<string, ComponentDeclaration>>>> = {
  'builder': {
    'docker': dockerBuilder,
    'null': nullBuilder,
    'file': fileBuilder,
    'amazon-ebs': amazonEbsBuilder,
  },
  'provisioner': {
    'shell': shellProvisioner,
    'file': fileProvisioner,
    'shell-local': shellLocalProvisioner,
    'breakpoint': breakpointProvisioner,
    'ansible': ansibleProvisioner,
    'ansible-local': ansibleLocalProvisioner,
    'puppet-masterless': puppetMasterlessProvisioner,
  },
  'post-processor': {
    'docker-tag': dockerTagPostProcessor,
    'docker-push': dockerPushPostProcessor,
    'docker-save': dockerSavePostProcessor,
    'docker-import': dockerImportPostProcessor,
    'compress': compressPostProcessor,
    'manifest': manifestPostProcessor,
    'checksum': checksumPostProcessor,
    'shell-local': shellLocalPostProcessor,
    'artifice': artificePostProcessor,
  },
};

/** Looks up a component declaration; undefined when Kiln does not know the type. */
export function findDeclaration(kind: ComponentKind, type: string): ComponentDeclaration | undefined {
  return Object.prototype.hasOwnProperty.call(CATALOG[kind], type) ? CATALOG[kind][type] : undefined;
}
