/**
 * Kiln's `{{ }}` engine: the Go text/template language as Packer 1.6.6 uses
 * it, with Packer's functions and the rules for where each one works.
 */
export { CleanResourceNameRule, InterpolateContext, Stage, PACKER_COMPATIBILITY_VERSION } from './context';
export { TemplateSyntaxError, TemplateExecError } from './errors';
export { TemplateTree } from './parser';
export { parse, ParseOptions, render, renderRepeatedly, hasActions, checkSyntax, MAX_RENDER_ROUNDS } from './render';
export { renderVariables, maskDataReferences, MaskedText, VariableInterpolationError, VariablesContext } from './variables';
export { BUILD_PLACEHOLDER_MESSAGE, buildPlaceholder, isCleanAmiName, VARIABLE_NOT_SET } from './functions';
export { formatGoTime, strftime } from './go-time';
