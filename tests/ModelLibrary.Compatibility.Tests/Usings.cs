global using Xunit;
global using ModelLibrary;
global using ModelLibrary.Compatibility;
