; Inno Setup script: CCI-OMERO-Uploader-Setup-<version>.exe, a per-machine installer
; of the PyInstaller bundle in dist\cci-uploader (build it first with
; installer\cci-uploader.spec).
;
; The version comes from the package metadata (pyproject.toml), passed in by the
; build, either as an environment variable (works with every ISCC version):
;   set CCI_APP_VERSION=0.1.0 && iscc installer\cci-uploader.iss
; or as a preprocessor define on the ISCC command line (/DAppVersion=0.1.0 in
; Inno Setup 6). .github/workflows/windows-installer.yml does this on CI.
;
; What it does:
;   - installs into C:\Program Files\CCI OMERO Uploader, for all users (admin);
;   - Start-menu entries for the uploader and for the training sandbox, and an
;     optional desktop shortcut (a task on the "Additional tasks" page);
;   - puts the facility config in %ProgramData%\cci-uploader\config.toml, where
;     the app reads it, only if there is none yet: an edited config survives
;     upgrades, and uninstalling leaves it in place for the next install;
;   - uninstalls the program files only. Each user's history, settings and logs
;     live in their own %LOCALAPPDATA%\cci-uploader and are never touched.

#ifndef AppVersion
  #define AppVersion GetEnv("CCI_APP_VERSION")
#endif
#if AppVersion == ""
  #error Pass the version: set CCI_APP_VERSION (or /DAppVersion=...) to the package version.
#endif

#define AppName "CCI OMERO Uploader"
#define AppExe "cci-uploader.exe"
#define ConfigDir "{commonappdata}\cci-uploader"

[Setup]
; The AppId identifies the product across versions: never change it.
AppId={{58710667-50D1-445F-AC76-5F1BA2F320FC}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Centre for Cellular Imaging
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist\installer
OutputBaseFilename=CCI-OMERO-Uploader-Setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\dist\cci-uploader\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; The facility config: installed once, then the facility's to edit; never removed.
Source: "config.example.toml"; DestDir: "{#ConfigDir}"; DestName: "config.toml"; Flags: onlyifdoesntexist uninsneveruninstall
; The documented example, refreshed on every upgrade, to compare an edited config with.
Source: "config.example.toml"; DestDir: "{app}"; Flags: ignoreversion
; The clean-up task definition, for facility staff to import with schtasks.
Source: "cleanup-task.xml"; DestDir: "{app}"; Flags: ignoreversion skipifsourcedoesntexist

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"; WorkingDir: "{app}"
Name: "{group}\{#AppName} (training sandbox)"; Filename: "{app}\{#AppExe}"; Parameters: "gui --sandbox"; WorkingDir: "{app}"; Comment: "Practise uploading: nothing leaves this computer."
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
; As the user who started Setup (not the elevated admin), so their own folders are used.
Filename: "{app}\{#AppExe}"; Parameters: "gui"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent runasoriginaluser
