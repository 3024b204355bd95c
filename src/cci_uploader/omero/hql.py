"""Every HQL query the app sends, in one place, parametrised.

The OMERO stand-in implements exactly these queries (and refuses any other),
so the tests prove the queries' parameters and results, and a new query
cannot slip in without the stand-in learning it.
"""

from __future__ import annotations

PROJECT_BY_NAME = (
    "select p from Project p"
    " where p.name = :name and p.details.owner.id = :owner and p.details.group.id = :group"
    " order by p.id"
)

DATASET_IN_PROJECT = (
    "select d from Dataset d join d.projectLinks l"
    " where l.parent.id = :project and d.name = :name and d.details.owner.id = :owner"
    " order by d.id"
)

# Whether a Dataset found earlier is still there, in its Project.
DATASET_STILL_LINKED = (
    "select l.child.id from ProjectDatasetLink l"
    " where l.parent.id = :project and l.child.id = :dataset"
)

# Images whose fileset holds a file with this name, size and SHA-1.
DUPLICATE_IMAGES = (
    "select distinct i.id from Image i join i.fileset fs join fs.usedFiles fe"
    " join fe.originalFile f"
    " where f.name = :name and f.size = :size and f.hash = :hash"
    " and f.hasher.value = :hasher and fs.details.group.id = :group"
)

# Name, size and SHA-1 of the files with these SHA-1s in the group's filesets
# with images: the duplicate check of many files at once.
DUPLICATES_BY_HASH = (
    "select distinct i.id, f.name, f.size, f.hash from Image i join i.fileset fs"
    " join fs.usedFiles fe join fe.originalFile f"
    " where f.hash in (:hashes) and f.hasher.value = :hasher and fs.details.group.id = :group"
)

# Values already used for one key in the client's key-value namespace.
VALUES_FOR_KEY = (
    "select distinct mv.value from MapAnnotation a join a.mapValue mv"
    " where a.ns = :ns and mv.name = :key and a.details.group.id = :group"
)

# Tags with this text in the group, with owner, namespace and permissions
# (the caller picks one it may link).
TAG_BY_TEXT = (
    "select t from TagAnnotation t"
    " where t.textValue = :text and t.details.group.id = :group order by t.id"
)

# Owners of images, to annotate only the user's own.
IMAGE_OWNERS = "select i.id, i.details.owner.id from Image i where i.id in (:ids)"

# Client-namespace pairs already on images.
IMAGE_PAIRS = (
    "select l.parent.id, mv.name, mv.value from ImageAnnotationLink l"
    " join l.child a join a.mapValue mv where l.parent.id in (:ids) and a.ns = :ns"
)

# Texts of the tags already linked to images.
IMAGE_TAGS = (
    "select l.parent.id, t.textValue from ImageAnnotationLink l, TagAnnotation t"
    " where l.child.id = t.id and l.parent.id in (:ids)"
)

# The user's fileset, without images, that holds an original file: what a
# cancelled or failed upload leaves behind.
EMPTY_FILESET_OF_FILE = (
    "select fs.id, fs.details.group.id from Fileset fs join fs.usedFiles fe"
    " where fe.originalFile.id = :file and fs.details.owner.id = :owner"
    " and not exists (select i.id from Image i where i.fileset.id = fs.id)"
)


# The status of the UploadJob of the user's fileset holding this file: "Finished"
# once verifyUpload passed and the import began (ManagedImportProcessI.verifyUpload).
UPLOAD_JOB_OF_FILE = (
    "select j.status.value from FilesetJobLink l, UploadJob j, FilesetEntry fe"
    " where l.child.id = j.id and l.parent.id = fe.fileset.id"
    " and fe.originalFile.id = :file and fe.fileset.details.owner.id = :owner"
)

# The fileset of each image, recorded in the upload history.
FILESETS_OF_IMAGES = "select i.id, fs.id from Image i join i.fileset fs where i.id in (:ids)"

# What the server stores for a fileset that still has images: name, size, SHA-1, hasher.
FILESET_FILES = (
    "select f.name, f.size, f.hash, f.hasher.value"
    " from Fileset fs join fs.usedFiles fe join fe.originalFile f"
    " where fs.id = :fileset and exists (select i.id from Image i where i.fileset.id = fs.id)"
    " order by fe.id"
)

# Filesets (with images) in these groups holding a file of this size and SHA-1.
FILESETS_BY_CONTENT = (
    "select distinct fs.id from Image i join i.fileset fs join fs.usedFiles fe"
    " join fe.originalFile f"
    " where f.size = :size and f.hash = :hash and f.hasher.value = :hasher"
    " and fs.details.group.id in (:groups)"
)

# A user's images in these groups imported before a time, with Dataset and Project.
OLD_IMAGES = (
    "select i.id, i.name, fs.id, i.details.creationEvent.time, i.details.group.id,"
    " d.id, d.name, p.id, p.name"
    " from Image i join i.fileset fs"
    " left outer join i.datasetLinks dl left outer join dl.parent d"
    " left outer join d.projectLinks pl left outer join pl.parent p"
    " where i.details.owner.id = :owner and i.details.group.id in (:groups)"
    " and i.details.creationEvent.time < :before order by i.id"
)

# Bytes stored for each fileset.
FILESET_SIZES = (
    "select fs.id, sum(f.size) from Fileset fs join fs.usedFiles fe join fe.originalFile f"
    " where fs.id in (:filesets) group by fs.id"
)

# Images in a group with a file attached in a namespace, by name, size and SHA-1
# (the original of a converted upload; omero/originals.py).
IMAGES_WITH_ORIGINAL = (
    "select distinct l.parent.id from ImageAnnotationLink l, FileAnnotation a join a.file f"
    " where l.child.id = a.id and a.ns = :ns and f.name = :name and f.size = :size"
    " and f.hash = :hash and f.hasher.value = :hasher and l.details.group.id = :group"
)

# The files attached to these images: image id, name, size, SHA-1, hasher.
ATTACHED_FILES = (
    "select l.parent.id, f.name, f.size, f.hash, f.hasher.value"
    " from ImageAnnotationLink l, FileAnnotation a join a.file f"
    " where l.child.id = a.id and l.parent.id in (:ids) order by l.id"
)


def normalise(query: str) -> str:
    """Collapse white space so equal queries compare equal."""
    return " ".join(query.split())
